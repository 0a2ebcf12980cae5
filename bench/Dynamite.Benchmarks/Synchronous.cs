namespace Dynamite.Benchmarks;

/// <summary>
/// Ends a ValueTask that the memory engine (and, in the cluster benchmark, peers answering in place) completes
/// synchronously. Throws instead of blocking when it did not: an asynchronous completion on this path would
/// itself be a regression worth failing on.
/// </summary>
public static class Synchronous
{
    public static void Complete(ValueTask pending)
    {
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("expected a synchronous completion on the benchmarked request path");
        }

        pending.GetAwaiter().GetResult();
    }
}
