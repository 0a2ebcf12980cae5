using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.KeyOperations;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SortedSetOperations;

/// <summary>
/// The STORE forms (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZRANGESTORE): a read computes the result, then the
/// destination is replaced by it, whatever it held (no expiry kept), or deleted when the result is empty. A standalone
/// node runs it whole, atomically (<see cref="Execute"/>); a cluster node in steps (<see cref="IStepwiseOperation"/>):
/// the read by quorum, the destination deleted, the result added as one ZADD. Not atomic across keys there: a read
/// between the steps sees the destination empty, and a member added to it concurrently survives beside the result.
/// </summary>
internal sealed class SortedSetStoreSteps(ITypedKeyOperation read, Func<IReadOnlyList<ScoredMember>> result, byte[] destination, NodeId actor)
    : ITypedKeyOperation, IStepwiseOperation
{
    private int _step;

    public int TouchedKeyCount => read.TouchedKeyCount + 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? destination : read.GetTouchedKey(index - 1);

    public bool WrongType => read.WrongType;

    /// <summary>How many members the stored result has: the reply.</summary>
    public long Cardinality => result().Count;

    public IStorageOperation? NextStep() => _step++ switch
    {
        0 => read,
        1 when !read.WrongType => new DeleteOperation([destination]),
        2 when !read.WrongType && result().Count > 0 => Write(),
        _ => null,
    };

    public void Execute(IStorageTransaction transaction)
    {
        read.Execute(transaction);
        if (read.WrongType)
        {
            return;
        }

        if (transaction.TryRead(destination, out _))
        {
            transaction.Delete(destination);
        }

        if (result().Count > 0)
        {
            Write().Execute(transaction);
        }
    }

    private SortedSetAddOperation Write() => new(destination, [.. result()], SortedSetAddFlags.None, actor);
}
