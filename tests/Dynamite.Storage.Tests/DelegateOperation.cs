using Dynamite.Core.KeyValue;

namespace Dynamite.Storage.Tests;

/// <summary>An operation written inline as a lambda, so each test states exactly what its operation does.</summary>
internal sealed class DelegateOperation(Action<IStorageTransaction> execute) : IStorageOperation
{
    public void Execute(IStorageTransaction transaction) => execute(transaction);
}
