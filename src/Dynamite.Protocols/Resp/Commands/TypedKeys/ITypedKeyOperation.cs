using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.TypedKeys;

/// <summary>A typed key command's storage operation: it finds out, and reports, that a key holds another type.</summary>
internal interface ITypedKeyOperation : IStorageOperation
{
    /// <summary>True when a key holds a value of another type; the operation then changed nothing.</summary>
    bool WrongType { get; }
}
