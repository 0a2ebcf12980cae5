namespace Dynamite.Benchmarks;

/// <summary>One benchmark's result as BenchmarkDotNet exported it: mean time and bytes allocated per operation.</summary>
public sealed record BenchmarkMeasurement(string Name, double MeanNanoseconds, long AllocatedBytesPerOperation);
