using System.Buffers;
using Dynamite.Core.DataTypes;
using Dynamite.Core.Gossip;
using Dynamite.Core.Peer;
using Dynamite.Core.Peer.Messages;
using Dynamite.Core.Versioning;
using Dynamite.Fuzzing;

namespace Dynamite.Core.Tests.Fuzzing;

/// <summary>
/// Runs one input through the peer receive path as a connection does: frames off a (segmented) buffer until one is
/// incomplete or the stream is rejected, each payload decoded by <see cref="PeerMessages.Read"/>, and the opaque
/// bodies a receiver decodes next (versioned objects, contexts, cluster states) decoded too.
/// Allowed failures: <see cref="PeerProtocolException"/> from framing and messages, <see cref="FormatException"/> from the bodies.
/// </summary>
internal static class PeerFuzzTarget
{
    /// <summary>A small frame limit makes length attacks cheap to reach; the default limit is used for a quarter of inputs.</summary>
    public const int SmallMaxFrameBytes = 16 * 1024;

    public const int MaxInputBytes = 8 * 1024;

    /// <summary>
    /// What decoding may allocate per input: copies of payloads and fields (each at most the input), the decoded
    /// objects and cluster states (a few hundred bytes per member or sibling, each of which takes several input bytes),
    /// and an exception. A claimed 4 GB frame or 2 GB field must cost nothing like that.
    /// </summary>
    public static long AllocationBound(int inputLength) => (64L * inputLength) + (64 * 1024);

    public static string? Check(byte[] input, Random random)
    {
        ReadOnlySequence<byte> buffer = FuzzSegment.Split(input, random, maxSegments: 8);
        int maxFrameBytes = random.Next(4) == 0 ? PeerFrameCodec.DefaultMaxFrameBytes : SmallMaxFrameBytes;
        // Every frame takes at least the header, so more iterations than bytes means a loop.
        long maxIterations = buffer.Length + 1;
        for (long iteration = 0; iteration < maxIterations; iteration++)
        {
            ReadOnlySequence<byte> before = buffer;
            bool framed;
            PeerFrameHeader header;
            ReadOnlySequence<byte> payload;
            try
            {
                framed = PeerFrameCodec.TryReadFrame(ref buffer, maxFrameBytes, out header, out payload);
            }
            catch (PeerProtocolException)
            {
                return null;
            }

            if (!framed)
            {
                return buffer.Length == before.Length ? null : $"returned false but moved the buffer from {before.Length} to {buffer.Length} bytes";
            }

            long consumed = before.Length - buffer.Length;
            if (header.Version != PeerFrameCodec.ProtocolVersion || payload.Length != header.PayloadLength
                || consumed != PeerFrameCodec.HeaderBytes + header.PayloadLength || !buffer.End.Equals(before.End)
                || header.PayloadLength > maxFrameBytes)
            {
                return $"frame {header} consumed {consumed} of {before.Length} bytes with a {payload.Length}-byte payload";
            }

            byte[]? copy = payload.IsSingleSegment ? null : payload.ToArray();
            Decode(header.Type, copy ?? payload.FirstSpan);
        }

        return $"still framing after {maxIterations} iterations";
    }

    private static void Decode(PeerMessageType type, ReadOnlySpan<byte> payload)
    {
        IPeerPayload message;
        try
        {
            message = PeerMessages.Read(type, payload);
        }
        catch (PeerProtocolException)
        {
            return;
        }

        try
        {
            switch (message)
            {
                case ReplicaPut put:
                    VersionedObject.Decode(put.EncodedObject.Span);
                    break;
                case HintedPut hinted:
                    VersionedObject.Decode(hinted.EncodedObject.Span);
                    break;
                case ReplicaGetReply { Status: ReplicaGetStatus.Found } reply:
                    VersionedObject.Decode(reply.EncodedObject.Span);
                    break;
                case CoordinatePut { EncodedContext.IsEmpty: false } coordinate:
                    VersionVector.Read(coordinate.EncodedContext.Span, out _);
                    break;
                case GossipState gossip:
                    ClusterState.Read(gossip.EncodedState.Span);
                    break;
                case JoinReply join:
                    ClusterState.Read(join.EncodedState.Span);
                    break;
                case ReplicaDelta delta:
                    KeyDelta.Decode(delta.EncodedDelta.Span);
                    break;
                case HintedDelta hinted:
                    KeyDelta.Decode(hinted.EncodedDelta.Span);
                    break;
                case ReplicaBatch batch:
                    foreach (ReplicaBatchEntry entry in batch.Entries)
                    {
                        if (entry.Kind == ReplicaBatchEntryKind.Delta)
                        {
                            KeyDelta.Decode(entry.Encoded.Span);
                        }
                        else
                        {
                            VersionedObject.Decode(entry.Encoded.Span);
                        }
                    }

                    break;
                case ReplicaReadElements read:
                    ElementSelection.Decode(read.EncodedSelection.Span);
                    break;
                case ReplicaReadElementsReply elements:
                    ReplicaElements.Decode(elements.EncodedElements.Span);
                    break;
                default:
                    break;
            }
        }
        catch (FormatException)
        {
        }
    }
}
