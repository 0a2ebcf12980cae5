using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dynamite.Benchmarks;

/// <summary>
/// The checked-in allocation budget (bench/allocation-budgets.json): for each benchmark, "Class.Method", the
/// most bytes one operation may allocate. A change that allocates more on a hot path fails the check loudly.
/// </summary>
public sealed class AllocationBudget(IReadOnlyDictionary<string, long> limits)
{
    public IReadOnlyDictionary<string, long> Limits { get; } = limits;

    public static AllocationBudget Load(string path)
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
        var limits = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (JsonProperty budget in document.RootElement.GetProperty("budgets").EnumerateObject())
        {
            limits[budget.Name] = budget.Value.GetInt64();
        }

        return new AllocationBudget(limits);
    }

    /// <summary>
    /// A budget a little above what was measured: zero stays zero (a zero-allocation path must stay so),
    /// anything else gets 10% (at least 16 bytes) of headroom, rounded up to the 8-byte allocation granularity.
    /// </summary>
    public static long Headroom(long measuredBytes)
    {
        if (measuredBytes <= 0)
        {
            return 0;
        }

        long withRoom = Math.Max(measuredBytes + 16, (long)Math.Ceiling(measuredBytes * 1.1));
        return (withRoom + 7) / 8 * 8;
    }

    public static void Write(string path, IEnumerable<BenchmarkMeasurement> measurements)
    {
        var budgets = new JsonObject();
        foreach (BenchmarkMeasurement measurement in measurements.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            budgets[measurement.Name] = Headroom(measurement.AllocatedBytesPerOperation);
        }

        var root = new JsonObject
        {
            ["about"] = "Most bytes one operation of each benchmark may allocate (Class.Method). Checked by bench/micro.sh; "
                + "regenerate with --update-budgets only when an allocation is intended, and say why in the commit.",
            ["budgets"] = budgets,
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Wrote {budgets.Count} budgets to {path}"));
    }
}
