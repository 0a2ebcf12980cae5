using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands;
using Dynamite.Protocols.Resp.Commands.KeyOperations;

namespace Dynamite.Protocols.Resp.Memory;

/// <summary>
/// Brings a node back under <c>maxmemory</c> as redis-server's <c>performEvictions</c> does before a command: while the
/// memory measured is over the limit, it samples keys, evicts the one the policy picks (a delete, announced as the
/// <c>evicted</c> keyspace event and to tracking clients; the lru policies pick the sampled key used longest ago, the lfu
/// ones the least often used), and counts the key's estimated footprint as freed, until
/// that covers the excess. One eviction runs at a time; a command that finds one running waits for it and measures
/// again. Evicting holds the node's isolation gate shared, so no key vanishes in the middle of a transaction or script.
/// </summary>
internal static class KeyEvictor
{
    /// <summary>Most keys one call evicts, so one command's wait stays bounded (redis-server bounds it by time); the next command goes on.</summary>
    private const int MaxKeysPerCall = 10_000;

    /// <summary>Sample pages a volatile policy reads looking for keys with a time to live before it gives up for this key.</summary>
    private const int MaxVolatilePages = 16;

    /// <summary>Keys per sample page for a volatile policy, which needs keys with a time to live among them.</summary>
    private const int VolatilePageSize = 64;

    /// <summary>The longest a command waits for another's eviction.</summary>
    private static readonly TimeSpan EvictionWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Evicts what the policy allows; true when the node is (back) under its limit, false when it is still over it
    /// (<c>noeviction</c>, nothing left to evict, or the bound reached): the caller then refuses commands that may add
    /// memory. <paramref name="callerHoldsGate"/>: the caller holds the isolation gate already (CONFIG SET maxmemory, shared,
    /// or inside EXEC or a script, whose caller holds it alone), so eviction must not queue for it again.
    /// </summary>
    public static async ValueTask<bool> FreeMemoryAsync(RespServer server, CancellationToken cancellationToken, bool callerHoldsGate = false)
    {
        MemoryLimit limit = server.Memory;
        if (!limit.IsOver)
        {
            return true;
        }

        if (limit.Policy == EvictionPolicy.NoEviction)
        {
            return false;
        }

        // The gate is always taken before the turn: a caller that holds the gate already only tries the turn, so that it
        // never waits for an eviction that itself waits for the gate behind a transaction waiting for this caller.
        if (!await limit.EvictionTurn.WaitAsync(callerHoldsGate ? TimeSpan.Zero : EvictionWait, cancellationToken))
        {
            return !limit.IsOver;
        }

        bool gateHeld = false;
        try
        {
            gateHeld = !callerHoldsGate && (server.Isolation.TryEnterShared()
                || await server.Isolation.EnterAsync(exclusive: false, server.ScriptIsBusyCheck, GatedHandler.MaxWait, TimeProvider.System, cancellationToken));
            if (!gateHeld && !callerHoldsGate)
            {
                return !limit.IsOver;
            }

            return await EvictUntilUnderAsync(server, limit, cancellationToken);
        }
        catch (Exception exception) when (exception is not (OperationCanceledException or OutOfMemoryException))
        {
            // A store that cannot be read or written now: nothing more is evicted, and the OOM rule answers the command.
            return !limit.IsOver;
        }
        finally
        {
            if (gateHeld)
            {
                server.Isolation.ExitShared();
            }

            limit.EvictionTurn.Release();
        }
    }

    private static async ValueTask<bool> EvictUntilUnderAsync(RespServer server, MemoryLimit limit, CancellationToken cancellationToken)
    {
        long excess = limit.UsedBytes - limit.MaxBytes;
        long freed = 0;
        for (int evicted = 0; freed < excess && evicted < MaxKeysPerCall; evicted++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await PickAsync(server, limit.Policy, limit.Samples) is not { } victim)
            {
                break;
            }

            var delete = new DeleteOperation([victim.Key]);
            await server.Store.ExecuteAsync(delete, cancellationToken: cancellationToken);
            if (delete.Deleted == 0)
            {
                continue;
            }

            long footprint = KeyFootprint.Estimate(victim.Key.Length, victim.Record);
            freed += footprint;
            limit.RecordEviction(footprint);
            limit.Access.Forget(victim.Key);
            server.Keyspace.Notify(PubSub.KeyspaceEventClasses.Evicted, "evicted", victim.Key);
            server.Tracking.Invalidate([victim.Key], writer: null);
        }

        return !limit.IsOver;
    }

    /// <summary>The key the policy evicts among those sampled from a random point of the key order; null when none qualifies.</summary>
    private static async ValueTask<(byte[] Key, StoredRecord Record)?> PickAsync(RespServer server, EvictionPolicy policy, int samples)
    {
        IKeyValueStore store = server.Store;
        bool volatileOnly = EvictionPolicies.VolatileOnly(policy);
        if (store.KeyCount == 0 || (volatileOnly && store.KeysWithExpiryCount == 0))
        {
            return null;
        }

        var candidates = new List<(byte[] Key, StoredRecord Record)>(samples);
        ulong? from = (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.Next() << 63);
        bool wrapped = false;
        for (int page = 0; candidates.Count < samples && page < (volatileOnly ? MaxVolatilePages : 2); page++)
        {
            if (from is not { } next)
            {
                if (wrapped)
                {
                    break;
                }

                wrapped = true;
                next = 0;
            }

            ScanPage keys = store.Scan(next, volatileOnly ? Math.Max(samples, VolatilePageSize) : samples);
            from = keys.NextHash;
            foreach (byte[] key in keys.Keys)
            {
                ReadResult read = await store.ReadAsync(key);
                if (read.Found && (!volatileOnly || read.Record.HasExpiry) && !candidates.Any(c => c.Key.AsSpan().SequenceEqual(key)))
                {
                    candidates.Add((key, read.Record));
                }
            }
        }

        if (candidates.Count == 0)
        {
            return null;
        }

        KeyAccessClock clock = server.Memory.Access;
        long now = server.NowUnixMs;
        return policy switch
        {
            EvictionPolicy.VolatileTtl => candidates.MinBy(c => c.Record.ExpiresAtUnixMs),
            EvictionPolicy.AllKeysLru or EvictionPolicy.VolatileLru => candidates.MinBy(c => clock.LastUsedUnixMs(c.Key)),
            EvictionPolicy.AllKeysLfu or EvictionPolicy.VolatileLfu => candidates.MinBy(c => ((long)clock.Frequency(c.Key, now) << 48) + clock.LastUsedUnixMs(c.Key)),
            _ => candidates[Random.Shared.Next(candidates.Count)],
        };
    }
}
