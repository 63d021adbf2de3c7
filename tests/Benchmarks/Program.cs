using AgentVerse.Benchmarks;

return args.FirstOrDefault() switch
{
    "actors" => await ActorBenchmark.RunAsync(args[1..]),
    "workflows" => await WorkflowBenchmark.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project tests/Benchmarks -- actors [--rate 1000] [--seconds 10] [--actors 100]\n" +
        "       dotnet run -c Release --project tests/Benchmarks -- workflows [--count 1000] [--concurrency 100]");
    return 2;
}
