using System.Text.Json;

namespace Dynamite.Benchmarks;

/// <summary>
/// Reads BenchmarkDotNet's JSON reports (*-report-brief.json in the artifacts' results folder). Each
/// benchmark is named "Class.Method", the key the budget file uses.
/// </summary>
public static class BenchmarkResults
{
    public static List<BenchmarkMeasurement> Read(string resultsDirectory)
    {
        var measurements = new List<BenchmarkMeasurement>();
        if (!Directory.Exists(resultsDirectory))
        {
            return measurements;
        }

        foreach (string file in Directory.EnumerateFiles(resultsDirectory, "*-report-brief.json"))
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(file));
            foreach (JsonElement benchmark in document.RootElement.GetProperty("Benchmarks").EnumerateArray())
            {
                string name = benchmark.GetProperty("Type").GetString() + "." + benchmark.GetProperty("Method").GetString();

                // A benchmark that threw has no statistics: leave it out, so the check reports it missing.
                if (!benchmark.TryGetProperty("Statistics", out JsonElement statistics) || statistics.ValueKind != JsonValueKind.Object
                    || !benchmark.TryGetProperty("Memory", out JsonElement memory) || memory.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                measurements.Add(new BenchmarkMeasurement(
                    name,
                    statistics.GetProperty("Mean").GetDouble(),
                    memory.GetProperty("BytesAllocatedPerOperation").GetInt64()));
            }
        }

        return measurements;
    }
}
