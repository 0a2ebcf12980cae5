using LightningDB;

namespace Dynamite.Storage.Lmdb;

/// <summary>
/// Read-only transactions kept for reuse. Beginning an LMDB read transaction under <c>MDB_NOTLS</c> claims a slot of
/// the reader table under its mutex; a transaction that is reset (<c>mdb_txn_reset</c>) keeps its slot but no
/// snapshot, and renewing it (<c>mdb_txn_renew</c>) takes a fresh snapshot without that mutex. So a read takes an
/// idle transaction from a small array of slots (one interlocked exchange, starting at a slot picked by thread id so
/// threads rarely meet), renews it, reads, resets it and puts it back. When every slot is taken a new transaction
/// is begun, and one that finds no free slot on return is ended. MDB_NOTLS lets a transaction move between
/// threads, which .NET's async code does.
/// <para>
/// An idle transaction holds no snapshot, so pooled transactions never keep old pages from being reused.
/// Thread-safe; <see cref="Dispose"/> only once no read is in flight (the store guarantees it).
/// </para>
/// </summary>
internal sealed class LmdbReaderPool(LightningEnvironment environment) : IDisposable
{
    private readonly LightningTransaction?[] _idle = new LightningTransaction?[Math.Max(8, 2 * Environment.ProcessorCount)];

    /// <summary>The most read transactions the pool keeps, and so the reader-table slots it holds while idle.</summary>
    public int Capacity => _idle.Length;

    /// <summary>A read-only transaction on the latest committed state; give it back with <see cref="Return"/>.</summary>
    public LightningTransaction Rent()
    {
        int start = Environment.CurrentManagedThreadId % _idle.Length;
        for (int i = 0; i < _idle.Length; i++)
        {
            int slot = (start + i) % _idle.Length;
            if (Volatile.Read(ref _idle[slot]) is null)
            {
                continue;
            }

            LightningTransaction? reused = Interlocked.Exchange(ref _idle[slot], null);
            if (reused is not null)
            {
                try
                {
                    reused.Renew();
                }
                catch
                {
                    // LMDB could not take a snapshot (a damaged or closing environment): drop the transaction. Its
                    // wrapper must still be disposed, or its finalizer would throw once the environment is closed.
                    reused.Dispose();
                    throw;
                }

                return reused;
            }
        }

        return environment.BeginTransaction(TransactionBeginFlags.ReadOnly);
    }

    /// <summary>Ends the read of <paramref name="transaction"/> (from <see cref="Rent"/>) and keeps it for the next one.</summary>
    public void Return(LightningTransaction transaction)
    {
        int start = Environment.CurrentManagedThreadId % _idle.Length;
        for (int i = 0; i < _idle.Length; i++)
        {
            int slot = (start + i) % _idle.Length;
            if (Volatile.Read(ref _idle[slot]) is not null)
            {
                continue;
            }

            // Reset before publishing: an idle transaction must hold no snapshot.
            if (transaction.State == LightningTransactionState.Ready)
            {
                transaction.Reset();
            }

            if (Interlocked.CompareExchange(ref _idle[slot], transaction, null) is null)
            {
                return;
            }
        }

        Abandon(transaction);
    }

    /// <summary>Ends every idle transaction, freeing its reader slot. Call once, after the last read.</summary>
    public void Dispose()
    {
        for (int i = 0; i < _idle.Length; i++)
        {
            if (Interlocked.Exchange(ref _idle[i], null) is { } transaction)
            {
                Abandon(transaction);
            }
        }
    }

    /// <summary>
    /// Ends <paramref name="transaction"/> for good. LightningDB's Dispose aborts only a transaction that is ready, and
    /// the abort is what frees a reset transaction's handle and reader slot, so a reset one is renewed first.
    /// </summary>
    private static void Abandon(LightningTransaction transaction)
    {
        try
        {
            if (transaction.State == LightningTransactionState.Reset)
            {
                transaction.Renew();
            }
        }
        finally
        {
            transaction.Dispose();
        }
    }
}
