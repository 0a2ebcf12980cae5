using System.Globalization;

namespace Dynamite.Benchmarks;

/// <summary>
/// Compares measured allocations with the budget and prints one row per benchmark. Fails when a benchmark
/// allocates over its budget, when a budgeted benchmark did not run, and when a benchmark has no budget
/// (a new benchmark must come with one).
/// </summary>
public static class BudgetCheck
{
    public static bool Run(AllocationBudget budget, IReadOnlyList<BenchmarkMeasurement> measurements, TextWriter output)
    {
        var measured = measurements.ToDictionary(m => m.Name, StringComparer.Ordinal);
        var names = new SortedSet<string>(budget.Limits.Keys, StringComparer.Ordinal);
        names.UnionWith(measured.Keys);
        int width = Math.Max(9, names.Max(n => n.Length));
        bool ok = true;
        output.WriteLine($"{"benchmark".PadRight(width)} {"ns/op",12} {"alloc B/op",11} {"budget B",9}  result");
        foreach (string name in names)
        {
            bool hasBudget = budget.Limits.TryGetValue(name, out long limit);
            string verdict;
            string time = "-";
            string allocated = "-";
            if (!measured.TryGetValue(name, out BenchmarkMeasurement? measurement))
            {
                verdict = "MISSING";
            }
            else
            {
                time = measurement.MeanNanoseconds.ToString("F1", CultureInfo.InvariantCulture);
                allocated = measurement.AllocatedBytesPerOperation.ToString(CultureInfo.InvariantCulture);
                verdict = !hasBudget ? "NO BUDGET" : measurement.AllocatedBytesPerOperation > limit ? "OVER" : "OK";
            }

            ok &= verdict == "OK";
            string limitText = hasBudget ? limit.ToString(CultureInfo.InvariantCulture) : "-";
            output.WriteLine($"{name.PadRight(width)} {time,12} {allocated,11} {limitText,9}  {verdict}");
        }

        output.WriteLine(ok ? "Allocation budget: OK" : "Allocation budget: FAILED (see OVER / MISSING / NO BUDGET above)");
        return ok;
    }
}
