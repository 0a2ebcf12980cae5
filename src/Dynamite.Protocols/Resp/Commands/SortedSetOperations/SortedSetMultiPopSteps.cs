using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>
/// ZMPOP: pops from the first of its keys that holds members, as redis-server does (a key of another type met on the
/// way is WRONGTYPE, and nothing is popped). A standalone node tries the keys in one atomic operation; a cluster node
/// tries them one step each (<see cref="IStepwiseOperation"/>), a pop built on a primary of that key, so a key filled
/// between two steps may be passed over, as with any command over keys of several partitions there.
/// </summary>
internal sealed class SortedSetMultiPopSteps(byte[][] keys, bool highest, long count, NodeId actor) : ITypedKeyOperation, IStepwiseOperation
{
    private int _next;
    private SortedSetTakeOperation? _last;

    public int TouchedKeyCount => keys.Length;

    public byte[] GetTouchedKey(int index) => keys[index];

    public bool WrongType => _last?.WrongType ?? false;

    public int StepLimit => keys.Length;

    /// <summary>The key popped from; null when every key was empty.</summary>
    public byte[]? PoppedKey => _last is { Popped.Count: > 0 } ? _last.Key : null;

    public IReadOnlyList<ScoredMember> Popped => _last?.Popped ?? [];

    public IStorageOperation? NextStep()
    {
        if (_next >= keys.Length || (_last is not null && (_last.WrongType || _last.Popped.Count > 0)))
        {
            return null;
        }

        _last = SortedSetTakeOperation.Pop(keys[_next++], count, highest, actor);
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
