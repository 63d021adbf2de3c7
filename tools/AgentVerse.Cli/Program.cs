// STUB: the launcher helper replaces this.
return 0;
