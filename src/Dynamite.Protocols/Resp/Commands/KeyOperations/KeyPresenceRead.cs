using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.KeyOperations;

/// <summary>Whether a key exists, of any type, as EXISTS sees it: a step of a command that must not replace it (RENAMENX, COPY).</summary>
internal sealed class KeyPresenceRead(byte[] key) : IStorageOperation
{
    public int TouchedKeyCount => 1;

    public byte[] GetTouchedKey(int index) => index == 0 ? key : throw new ArgumentOutOfRangeException(nameof(index));

    public bool Exists { get; private set; }

    public void Execute(IStorageTransaction transaction) => Exists = transaction.TryRead(key, out _);
}
