using System.Buffers;
using Dynamite.Core.Peer;

namespace Dynamite.Core.Tests.AntiEntropy;

internal static class Wire
{
    public static byte[] Encode(IPeerPayload message)
    {
        var writer = new ArrayBufferWriter<byte>();
        message.Write(writer);
        return writer.WrittenSpan.ToArray();
    }
}
