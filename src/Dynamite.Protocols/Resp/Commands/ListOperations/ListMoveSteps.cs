using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.ListOperations;

/// <summary>
/// LMOVE, RPOPLPUSH and their blocking forms: the source and then the destination type-checked (as redis-server
/// checks them), one item popped from the source and pushed onto the destination. A standalone node runs the steps in
/// one atomic operation; a cluster node one step each (<see cref="IStepwiseOperation"/>), the pop before the push, so
/// a failure between them loses the item only if the push never runs (the pop's reply then reports the error).
/// </summary>
internal sealed class ListMoveSteps(byte[] source, byte[] destination, bool fromHead, bool toHead, NodeId actor) : ITypedKeyOperation, IStepwiseOperation
{
    private ListRead? _sourceRead;
    private ListRead? _destinationRead;
    private ListPopOperation? _pop;
    private int _step;

    public int TouchedKeyCount => 2;

    public byte[] GetTouchedKey(int index) => index == 0 ? source : destination;

    public bool WrongType => (_sourceRead?.WrongType ?? false) || DestinationWrongType || (_pop?.WrongType ?? false);

    /// <summary>The destination holds another type: an error even for a blocked client woken by a push to the source, as in Redis.</summary>
    public bool DestinationWrongType => _destinationRead?.WrongType ?? false;

    /// <summary>The value moved; null when the source had none.</summary>
    public byte[]? Moved => _pop is { Popped.Count: > 0 } ? _pop.Popped[0] : null;

    public IStorageOperation? NextStep()
    {
        switch (_step++)
        {
            case 0:
                _sourceRead = new ListRead(source, lengthOnly: true);
                return _sourceRead;
            case 1:
                if (_sourceRead!.WrongType || !_sourceRead.Exists)
                {
                    return null;
                }

                _destinationRead = new ListRead(destination, lengthOnly: true);
                return _destinationRead;
            case 2:
                if (_destinationRead!.WrongType)
                {
                    return null;
                }

                _pop = new ListPopOperation(source, fromHead, 1, actor);
                return _pop;
            case 3:
                return Moved is { } value && !_pop!.WrongType ? new ListPushOperation(destination, [value], toHead, onlyIfExists: false, actor) : null;
            default:
                return null;
        }
    }

    public void Execute(IStorageTransaction transaction)
    {
        _step = 0;
        _sourceRead = null;
        _destinationRead = null;
        _pop = null;
        while (NextStep() is { } step)
        {
            step.Execute(transaction);
        }
    }
}
