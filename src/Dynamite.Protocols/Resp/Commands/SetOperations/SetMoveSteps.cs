using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.SetOperations;

/// <summary>
/// SMOVE on a cluster node, in single-key steps (<see cref="IStepwiseOperation"/>): the member read by quorum in the
/// source, then in the destination (for its type) (Redis's order of answers: a missing source is 0, then either key of another type
/// is WRONGTYPE, then a member not in the source is 0), then the member added to the destination, and only then
/// removed from the source. Not atomic across keys: a failure between the last two steps leaves the member in both sets,
/// never in neither, and two concurrent moves of one member may both answer 1. A standalone node runs the command whole
/// instead (<see cref="Execute"/>: <see cref="SetMoveOperation"/>, atomically).
/// </summary>
internal sealed class SetMoveSteps(byte[] source, byte[] destination, byte[] member, NodeId actor) : ITypedKeyOperation, IStepwiseOperation
{
    private readonly ElementReadOperation _source = new(source, DataType.Set, ElementReadMode.Named, null, [member]);
    private readonly ElementReadOperation _destination = new(destination, DataType.Set, ElementReadMode.Named, null, [member]);
    private SetMoveOperation? _whole;
    private bool _moved;
    private int _step;

    public int TouchedKeyCount => 2;

    public byte[] GetTouchedKey(int index) => index switch
    {
        0 => source,
        1 => destination,
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public bool WrongType => _whole?.WrongType ?? (_source.WrongType || (_source.Exists && _destination.WrongType));

    /// <summary>True when the member was in the source (and is now in the destination): the reply.</summary>
    public bool Moved => _whole?.Moved ?? _moved;

    public IStorageOperation? NextStep()
    {
        switch (_step++)
        {
            case 0:
                return _source;
            case 1:
                return _source.Exists && !_source.WrongType ? _destination : null;
            case 2:
                if (_destination.WrongType || _source.Values.Count == 0 || _source.Values[0] is null)
                {
                    return null;
                }

                _moved = true;
                return source.AsSpan().SequenceEqual(destination)
                    ? null
                    : new ElementWriteOperation(destination, DataType.Set, [member], null, ElementWriteMode.Set, actor);
            case 3:
                return _moved && !source.AsSpan().SequenceEqual(destination)
                    ? new ElementWriteOperation(source, DataType.Set, [member], null, ElementWriteMode.Delete, actor)
                    : null;
            default:
                return null;
        }
    }

    /// <summary>The whole command in one operation, on a store with atomic operations over several keys.</summary>
    public void Execute(IStorageTransaction transaction)
    {
        _whole = new SetMoveOperation(source, destination, member, actor);
        _whole.Execute(transaction);
    }
}
