using BenchmarkDotNet.Running;
using Dynamite.Benchmarks;

// Usage (from the repository root; bench/micro.sh wraps the first):
//   dotnet run -c Release --project bench/Dynamite.Benchmarks -- --check           run everything, check the budget
//   dotnet run -c Release --project bench/Dynamite.Benchmarks -- --check-only      check the last run's results
//   dotnet run -c Release --project bench/Dynamite.Benchmarks -- --update-budgets  run everything, rewrite the budget
//   dotnet run -c Release --project bench/Dynamite.Benchmarks -- --filter '*Resp*' any BenchmarkDotNet arguments
string root = FindRepositoryRoot();
string budgetPath = Path.Combine(root, "bench", "allocation-budgets.json");
string artifacts = Path.Combine(root, "bench", "Dynamite.Benchmarks", "BenchmarkDotNet.Artifacts");
string results = Path.Combine(artifacts, "results");
var config = MicroBenchmarkConfig.Create(artifacts);

string mode = args.Length > 0 ? args[0] : "";
switch (mode)
{
    case "--check":
    case "--update-budgets":
        // Stale reports from an earlier (maybe filtered) run must not stand in for a benchmark that did not run.
        if (Directory.Exists(results))
        {
            Directory.Delete(results, recursive: true);
        }

        BenchmarkRunner.Run(typeof(Program).Assembly, config);
        if (mode == "--update-budgets")
        {
            AllocationBudget.Write(budgetPath, BenchmarkResults.Read(results));
            return 0;
        }

        return Check();
    case "--check-only":
        return Check();
    default:
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
}

int Check() => BudgetCheck.Run(AllocationBudget.Load(budgetPath), BenchmarkResults.Read(results), Console.Out) ? 0 : 1;

static string FindRepositoryRoot()
{
    for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "Dynamite.sln")))
        {
            return directory.FullName;
        }
    }

    throw new InvalidOperationException("Dynamite.sln not found above " + AppContext.BaseDirectory);
}
