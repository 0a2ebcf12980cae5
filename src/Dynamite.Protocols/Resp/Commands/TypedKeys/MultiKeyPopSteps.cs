using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.TypedKeys;

/// <summary>A pop from one typed key (a sorted set's, a list's): what <see cref="MultiKeyPopSteps{TPop, TItem}"/> runs per key.</summary>
internal interface IKeyPopOperation<TItem> : IStorageOperation
{
    byte[] Key { get; }

    bool WrongType { get; }

    IReadOnlyList<TItem> Popped { get; }
}

/// <summary>
/// ZMPOP, LMPOP and the blocking pops (BZPOPMIN, BZMPOP, BLPOP, BRPOP, BLMPOP): a pop from the first of the keys that
/// holds members, as redis-server does (a key of another type met on the way is WRONGTYPE, and nothing is popped). A
/// standalone node tries the keys in one atomic operation; a cluster node tries them one step each
/// (<see cref="IStepwiseOperation"/>), each a pop built on a primary of its key, so a key filled between two steps may be
/// passed over, as with any command over keys of several partitions there.
/// </summary>
internal sealed class MultiKeyPopSteps<TPop, TItem>(byte[][] keys, Func<byte[], TPop> popFrom) : ITypedKeyOperation, IStepwiseOperation
    where TPop : class, IKeyPopOperation<TItem>
{
    private int _next;
    private TPop? _last;

    public int TouchedKeyCount => keys.Length;

    public byte[] GetTouchedKey(int index) => keys[index];

    public bool WrongType => _last?.WrongType ?? false;

    public int StepLimit => keys.Length;

    /// <summary>The key popped from; null when every key was empty.</summary>
    public byte[]? PoppedKey => _last is { Popped.Count: > 0 } ? _last.Key : null;

    public IReadOnlyList<TItem> Popped => _last?.Popped ?? [];

    public IStorageOperation? NextStep()
    {
        if (_next >= keys.Length || (_last is not null && (_last.WrongType || _last.Popped.Count > 0)))
        {
            return null;
        }

        _last = popFrom(keys[_next++]);
        return _last;
    }

    public void Execute(IStorageTransaction transaction)
    {
        _next = 0;
        _last = null;
        while (NextStep() is { } step)
        {
            step.Execute(transaction);
        }
    }
}
