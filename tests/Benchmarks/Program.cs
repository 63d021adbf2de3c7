using AgentVerse.Benchmarks;

return args.FirstOrDefault() switch
{
    "gateway" => await GatewayBenchmark.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project tests/Benchmarks -- gateway [--rate 1000] [--seconds 10] [--rounds 2]");
    return 2;
}
