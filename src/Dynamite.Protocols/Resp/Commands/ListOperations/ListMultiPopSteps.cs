using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.ListOperations;

/// <summary>
/// LMPOP, BLPOP, BRPOP and BLMPOP's pop: from the first of the keys that holds a list (a key of another type met on
/// the way is WRONGTYPE). One atomic operation on a standalone node, one step per key on a cluster.
/// </summary>
internal sealed class ListMultiPopSteps(byte[][] keys, bool atHead, long count, NodeId actor) : ITypedKeyOperation, IStepwiseOperation
{
    private int _next;
    private ListPopOperation? _last;

    public int TouchedKeyCount => keys.Length;

    public byte[] GetTouchedKey(int index) => keys[index];

    public bool WrongType => _last?.WrongType ?? false;

    public int StepLimit => keys.Length;

    /// <summary>The key popped from; null when every key was empty.</summary>
    public byte[]? PoppedKey => _last is { Popped.Count: > 0 } ? _last.Key : null;

    public IReadOnlyList<byte[]> Popped => _last?.Popped ?? [];

    public IStorageOperation? NextStep()
    {
        if (_next >= keys.Length || (_last is not null && (_last.WrongType || _last.Popped.Count > 0)))
        {
            return null;
        }

        _last = new ListPopOperation(keys[_next++], atHead, count, actor);
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
