using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.StringOperations;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.KeyOperations;

/// <summary>
/// RENAME, RENAMENX and COPY on a cluster node, in single-key steps (<see cref="IStepwiseOperation"/>), since the two keys
/// live in different partitions: the source read whole by quorum (<see cref="KeySnapshotRead"/>); for RENAMENX and COPY
/// without REPLACE, the destination's presence; the destination deleted whatever it held; the source's value written
/// under the destination as a client would write it (a string with its expiry; a hash's fields with their values or a
/// set's members as one write, then the expiry); for a rename, the source deleted. A counter arrives as a string of its
/// total, which the next increment turns back into a counter. Not atomic across keys: a reader between the steps sees
/// both keys or neither, a write to the source during a rename that its delete had not seen survives there (add-wins
/// for a hash or set, the later write for a string), and two concurrent RENAMENX into one absent key may both answer 1.
/// O(n) in a collection's elements, whose copy is one delta. A standalone node runs the command whole instead
/// (<see cref="Execute"/>: <see cref="KeyCopyOperation"/>, atomically).
/// </summary>
internal sealed class KeyCopySteps(byte[] source, byte[] destination, KeyCopyMode mode, NodeId actor) : IStepwiseOperation
{
    private readonly KeySnapshotRead _source = new(source);
    private readonly KeyPresenceRead _destination = new(destination);
    private KeyCopyOperation? _whole;
    private KeyCopyOutcome _outcome;
    private int _step;
    private bool _finished;

    public int TouchedKeyCount => 2;

    public byte[] GetTouchedKey(int index) => index switch
    {
        0 => source,
        1 => destination,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public KeyCopyOutcome Outcome => _whole?.Outcome ?? _outcome;

    private bool ReplacesDestination => mode is KeyCopyMode.Rename or KeyCopyMode.CopyReplacing;

    private bool RemovesSource => mode is KeyCopyMode.Rename or KeyCopyMode.RenameIfAbsent;

    public IStorageOperation? NextStep()
    {
        while (!_finished)
        {
            if (StepAt(_step++) is { } step)
            {
                return step;
            }
        }

        return null;
    }

    /// <summary>The whole command in one operation, on a store with atomic operations over several keys.</summary>
    public void Execute(IStorageTransaction transaction)
    {
        _whole = new KeyCopyOperation(source, destination, mode);
        _whole.Execute(transaction);
    }

    /// <summary>The step at <paramref name="index"/>, chosen by what the steps before it found; null when it has nothing to do.</summary>
    private IStorageOperation? StepAt(int index)
    {
        switch (index)
        {
            case 0:
                return _source;
            case 1:
                return AfterSourceRead();
            case 2:
                if (!ReplacesDestination && _destination.Exists)
                {
                    Finish(KeyCopyOutcome.DestinationKept);
                    return null;
                }

                return ReplacesDestination ? new DeleteOperation([destination]) : null;
            case 3:
                return DestinationWrite();
            case 4:
                return _source.Type is DataType.Hash or DataType.Set or DataType.SortedSet or DataType.List && _source.ExpiresAtUnixMs != 0
                    ? new ExpireOperation(destination, new ExpirySpec(ExpiryKind.Absolute, _source.ExpiresAtUnixMs), ExpireCondition.None, actor)
                    : null;
            case 5:
                return RemovesSource ? new DeleteOperation([source]) : null;
            default:
                _finished = true;
                return null;
        }
    }

    /// <summary>The outcome as far as the source decides it, and the destination's presence read when it may not be replaced.</summary>
    private KeyPresenceRead? AfterSourceRead()
    {
        if (!_source.Found)
        {
            Finish(KeyCopyOutcome.NoSource);
            return null;
        }

        if (source.AsSpan().SequenceEqual(destination))
        {
            // RENAME of a key onto itself answers OK and RENAMENX 0, changing nothing (COPY refuses it before).
            Finish(mode == KeyCopyMode.Rename ? KeyCopyOutcome.Done : KeyCopyOutcome.DestinationKept);
            return null;
        }

        _outcome = KeyCopyOutcome.Done;
        return ReplacesDestination ? null : _destination;
    }

    private void Finish(KeyCopyOutcome outcome)
    {
        _outcome = outcome;
        _finished = true;
    }

    /// <summary>The source's value written under the destination as a client would write it.</summary>
    private IStorageOperation DestinationWrite()
    {
        if (_source.Type == DataType.SortedSet)
        {
            var pairs = new SortedSetOperations.ScoredMember[_source.ElementNames.Count];
            for (int i = 0; i < pairs.Length; i++)
            {
                pairs[i] = new SortedSetOperations.ScoredMember(_source.ElementNames[i], SortedSetOperations.SortedSetScore.Decode(_source.ElementValues[i]));
            }

            return new SortedSetOperations.SortedSetAddOperation(destination, pairs, SortedSetOperations.SortedSetAddFlags.None, actor);
        }

        if (_source.Type == DataType.List)
        {
            // The items in order, pushed at the tail: the destination gets positions of its own.
            return new ListOperations.ListPushOperation(destination, [.. _source.ElementValues], atHead: false, onlyIfExists: false, actor);
        }

        if (_source.Type is DataType.Hash or DataType.Set)
        {
            byte[][]? values = _source.Type == DataType.Hash ? [.. _source.ElementValues] : null;
            return new ElementWriteOperation(destination, _source.Type.Value, [.. _source.ElementNames], values, ElementWriteMode.Set, actor);
        }

        // A plain string, or a counter's total.
        byte[] value = _source.Type == DataType.String ? _source.ElementValues[0] : _source.Value;
        ExpirySpec expiry = _source.ExpiresAtUnixMs == 0 ? ExpirySpec.Clear : new ExpirySpec(ExpiryKind.Absolute, _source.ExpiresAtUnixMs);
        return new SetOperation(destination, value, SetCondition.None, expiry, returnsOldValue: false);
    }
}
