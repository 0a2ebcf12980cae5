namespace Dynamite.Core.KeyValue;

/// <summary>
/// The store refused an operation before writing anything: the operation is valid but this store cannot run it yet
/// (a string written over a hash on a cluster node). The message is shown to the client as it is, an error code first.
/// </summary>
public sealed class StoreRefusedException : Exception
{
    public StoreRefusedException(string message)
        : base(message)
    {
    }

    public StoreRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StoreRefusedException()
    {
    }
}
