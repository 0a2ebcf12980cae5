using Dynamite.Core.KeyValue;

namespace Dynamite.Protocols.Resp.Commands.BitmapOperations;

internal enum BitOperator
{
    And,
    Or,
    Xor,
    Not,
}

/// <summary>
/// BITOP op destination source...: combines the sources byte by byte (a missing key, or the part past a shorter
/// string, is zero bytes) into a string as long as the longest, stored at the destination without an expiry, replacing
/// whatever it held; when every source is empty the destination is deleted. The reply is the result's length.
/// </summary>
internal sealed class BitOpOperation(BitOperator op, byte[] destination, byte[][] sources) : IStorageOperation
{
    private readonly byte[][] _touched = [destination, .. sources.Where(s => !s.AsSpan().SequenceEqual(destination)).Distinct(Core.KeyValue.ByteArrayComparer.Instance)];

    public int TouchedKeyCount => _touched.Length;

    public byte[] GetTouchedKey(int index) => _touched[index];

    public bool WrongType { get; private set; }

    public long Length { get; private set; }

    public void Execute(IStorageTransaction transaction)
    {
        var inputs = new byte[sources.Length][];
        int longest = 0;
        for (int i = 0; i < sources.Length; i++)
        {
            bool exists = transaction.TryRead(sources[i], out StoredRecord record);
            if (exists && record.IsTypedHeader)
            {
                WrongType = true;
                return;
            }

            inputs[i] = exists ? record.Value : [];
            longest = Math.Max(longest, inputs[i].Length);
        }

        Length = longest;
        bool destinationExists = transaction.TryRead(destination, out StoredRecord old);
        if (longest == 0)
        {
            if (destinationExists)
            {
                transaction.Delete(destination);
            }

            return;
        }

        byte[] result = new byte[longest];
        inputs[0].CopyTo(result, 0);
        if (op == BitOperator.Not)
        {
            for (int j = 0; j < result.Length; j++)
            {
                result[j] = (byte)~result[j];
            }
        }

        for (int i = 1; i < inputs.Length; i++)
        {
            Combine(result, inputs[i]);
        }

        if (destinationExists && old.IsTypedHeader)
        {
            transaction.DeleteAllElements(destination);
        }

        transaction.Write(destination, new StoredRecord(result, 0));
    }

    private void Combine(byte[] result, byte[] input)
    {
        for (int j = 0; j < result.Length; j++)
        {
            byte b = j < input.Length ? input[j] : (byte)0;
            result[j] = op switch
            {
                BitOperator.And => (byte)(result[j] & b),
                BitOperator.Or => (byte)(result[j] | b),
                _ => (byte)(result[j] ^ b),
            };
        }
    }
}
