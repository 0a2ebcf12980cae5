using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.KeyOperations;

/// <summary>What a <see cref="KeyCopyOperation"/> does with its destination and its source.</summary>
internal enum KeyCopyMode
{
    /// <summary>RENAME: the destination is replaced, the source goes.</summary>
    Rename,

    /// <summary>RENAMENX: only into an absent destination; the source goes.</summary>
    RenameIfAbsent,

    /// <summary>COPY: only into an absent destination; the source stays.</summary>
    Copy,

    /// <summary>COPY ... REPLACE: the destination is replaced; the source stays.</summary>
    CopyReplacing,
}

/// <summary>How a <see cref="KeyCopyOperation"/> ended.</summary>
internal enum KeyCopyOutcome
{
    /// <summary>The source key does not exist.</summary>
    NoSource,

    /// <summary>The destination exists and may not be replaced (RENAMENX, COPY without REPLACE), or RENAMENX named one key twice.</summary>
    DestinationKept,

    /// <summary>Copied (or renamed, or RENAME of a key onto itself).</summary>
    Done,
}

/// <summary>
/// RENAME, RENAMENX and COPY on a standalone node, with redis-server's semantics, as one atomic operation over both
/// keys: the source's record (a string, or a hash's or set's header, with its expiry) and every element of a typed
/// key are written under the destination, whose own record and elements go first; a rename then deletes the source.
/// O(n) in a collection's elements (Redis's COPY is too; its RENAME moves a pointer). A cluster node runs these
/// commands as single-key steps instead (<see cref="KeyCopySteps"/>).
/// </summary>
internal sealed class KeyCopyOperation(byte[] source, byte[] destination, KeyCopyMode mode) : IStorageOperation
{
    public int TouchedKeyCount => 2;

    public byte[] GetTouchedKey(int index) => index switch
    {
        0 => source,
        1 => destination,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public KeyCopyOutcome Outcome { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        if (!transaction.TryRead(source, out StoredRecord record))
        {
            Outcome = KeyCopyOutcome.NoSource;
            return;
        }

        if (source.AsSpan().SequenceEqual(destination))
        {
            // RENAME of a key onto itself answers OK and RENAMENX 0, changing nothing (COPY refuses it before).
            Outcome = mode == KeyCopyMode.Rename ? KeyCopyOutcome.Done : KeyCopyOutcome.DestinationKept;
            return;
        }

        if (transaction.TryRead(destination, out _))
        {
            if (mode is KeyCopyMode.RenameIfAbsent or KeyCopyMode.Copy)
            {
                Outcome = KeyCopyOutcome.DestinationKept;
                return;
            }

            transaction.Delete(destination);
        }

        // A destination that read absent may be an expired typed key the sweep has not reached: its elements go too.
        transaction.DeleteAllElements(destination);
        transaction.Write(destination, record);
        if (record.IsTypedHeader)
        {
            bool indexed = TypedKeyRecord.TypeOf(record.Value) == DataType.SortedSet;
            foreach (StoredElement element in TypedKey.AllElements(transaction, source))
            {
                transaction.WriteElement(destination, element.Name, element.Value);
                if (indexed)
                {
                    ScoreIndex.Move(transaction, destination, element.Name, before: null, ElementState.Decode(element.Value));
                }
            }
        }

        if (mode is KeyCopyMode.Rename or KeyCopyMode.RenameIfAbsent)
        {
            transaction.Delete(source);
        }

        Outcome = KeyCopyOutcome.Done;
    }
}
