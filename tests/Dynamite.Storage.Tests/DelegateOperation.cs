using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Tests;

/// <summary>
/// An operation written inline as a lambda, so each test states exactly what its operation does. Engines
/// never ask for the declared keys (only a cluster coordinator does), so it declares none.
/// </summary>
internal sealed class DelegateOperation(Action<IStorageTransaction> execute) : IStorageOperation
{
    public int TouchedKeyCount => 0;

    public byte[] GetTouchedKey(int index) => throw new ArgumentOutOfRangeException(nameof(index));

    public void Execute(IStorageTransaction transaction) => execute(transaction);
}
