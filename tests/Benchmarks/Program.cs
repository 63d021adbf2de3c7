using AgentVerse.Benchmarks;

return args.FirstOrDefault() switch
{
    "actors" => await ActorBenchmark.RunAsync(args[1..]),
    "gateway" => await GatewayBenchmark.RunAsync(args[1..]),
    "workflows" => await WorkflowBenchmark.RunAsync(args[1..]),
    "tools" => await ToolsBenchmark.RunAsync(args[1..]),
    "mcp" => await McpBenchmark.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: dotnet run -c Release --project tests/Benchmarks -- <benchmark> [options]
          actors     [--rate 1000] [--seconds 10] [--actors 100]
          gateway    [--rate 1000] [--seconds 10] [--rounds 2]
          workflows  [--count 1000] [--concurrency 100]
          tools      [--rate 2000] [--seconds 10] [--warmup 20] [--concurrency 16]
          mcp        [--rate 1000] [--seconds 10] [--warmup 20] [--concurrency 16] [--stateless]
        """);
    return 2;
}
