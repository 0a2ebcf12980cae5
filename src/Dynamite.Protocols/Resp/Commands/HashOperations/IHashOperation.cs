using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.HashOperations;

/// <summary>A hash command's storage operation: it finds out, and reports, that its key holds another type.</summary>
internal interface IHashOperation : IStorageOperation
{
    /// <summary>True when the key holds a value of another type; the operation then changed nothing.</summary>
    bool WrongType { get; }
}
