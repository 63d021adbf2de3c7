using AgentVerse.Benchmarks;

return args.FirstOrDefault() switch
{
    "workflows" => await WorkflowBenchmark.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project tests/Benchmarks -- workflows [--count 1000] [--concurrency 100]");
    return 2;
}
