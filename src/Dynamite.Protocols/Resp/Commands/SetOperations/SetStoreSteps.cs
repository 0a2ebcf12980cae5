using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.KeyOperations;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SetOperations;

/// <summary>
/// SINTERSTORE, SUNIONSTORE and SDIFFSTORE on a cluster node, in three steps (<see cref="IStepwiseOperation"/>): the
/// sources read by quorum and combined as the read form does (a source of another type is WRONGTYPE and nothing
/// changes), then the destination deleted whatever it held (the observed remove of a typed key, a tombstone over a
/// string), then the result added to it as one set write. Not atomic across keys: a read between the steps sees the
/// destination empty, and a member added to the destination concurrently survives beside the result, as add-wins says.
/// A standalone node runs the command whole instead (<see cref="Execute"/>: <see cref="SetAlgebraOperation"/>, atomically).
/// </summary>
internal sealed class SetStoreSteps(SetAlgebra algebra, byte[][] sources, byte[] destination, NodeId actor) : ITypedKeyOperation, IStepwiseOperation
{
    private readonly SetAlgebraOperation _read = new(algebra, sources, null, actor);
    private SetAlgebraOperation? _whole;
    private int _step;

    public int TouchedKeyCount => sources.Length + 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? destination : sources[index - 1];

    public bool WrongType => _whole?.WrongType ?? _read.WrongType;

    /// <summary>How many members the stored result has: the reply.</summary>
    public long Cardinality => _whole?.Cardinality ?? _read.Members.Count;

    public IStorageOperation? NextStep() => _step++ switch
    {
        0 => _read,
        1 when !_read.WrongType => new DeleteOperation([destination]),
        2 when !_read.WrongType && _read.Members.Count > 0 =>
            new ElementWriteOperation(destination, DataType.Set, [.. _read.Members], null, ElementWriteMode.Set, actor),
        _ => null,
    };

    /// <summary>The whole command in one operation, on a store with atomic operations over several keys.</summary>
    public void Execute(IStorageTransaction transaction)
    {
        _whole = new SetAlgebraOperation(algebra, sources, destination, actor);
        _whole.Execute(transaction);
    }
}
