using System.Buffers;
using Dynamite.Core.DataTypes;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.DataTypes;

public sealed class DotContextTests
{
    private static readonly NodeId A = new("a");
    private static readonly NodeId B = new("b");

    [Fact]
    public void Of_ContiguousDots_FoldIntoTheVector()
    {
        DotContext context = DotContext.Of([new Dot(A, 2), new Dot(A, 1), new Dot(A, 3), new Dot(B, 1)]);

        Assert.Equal([new ActorCounter(A, 3), new ActorCounter(B, 1)], context.Vector.ToArray());
        Assert.True(context.Cloud.IsEmpty);
    }

    [Fact]
    public void Of_DotBeyondAGap_StaysInTheCloudUntilTheGapFills()
    {
        DotContext gapped = DotContext.Of([new Dot(A, 1), new Dot(A, 3)]);

        Assert.True(gapped.Covers(new Dot(A, 3)));
        Assert.False(gapped.Covers(new Dot(A, 2)));
        Assert.Equal([new Dot(A, 3)], gapped.Cloud.ToArray());
        Assert.Equal(3, gapped.MaxCounter(A));
        Assert.Equal(new Dot(A, 4), gapped.NextDot(A));

        DotContext filled = gapped.Add(new Dot(A, 2));
        Assert.Equal([new ActorCounter(A, 3)], filled.Vector.ToArray());
        Assert.True(filled.Cloud.IsEmpty);
    }

    [Fact]
    public void Union_IsCommutativeAssociativeAndIdempotent_OverRandomContexts()
    {
        var random = new Random(7);
        for (int round = 0; round < 500; round++)
        {
            DotContext x = RandomContext(random), y = RandomContext(random), z = RandomContext(random);

            Assert.Equal(x.Union(y), y.Union(x));
            Assert.Equal(x.Union(y).Union(z), x.Union(y.Union(z)));
            Assert.Equal(x, x.Union(x));
        }
    }

    [Fact]
    public void Add_IsTheUnionWithTheOneDot()
    {
        var random = new Random(17);
        for (int round = 0; round < 500; round++)
        {
            DotContext context = RandomContext(random);
            var dot = new Dot(random.Next(2) == 0 ? A : B, random.Next(1, 14));

            Assert.Equal(context.Union(DotContext.Of([dot])), context.Add(dot));
        }
    }

    [Fact]
    public void Union_CoversExactlyTheDotsOfEitherSide()
    {
        var random = new Random(11);
        for (int round = 0; round < 200; round++)
        {
            HashSet<Dot> left = RandomDots(random), right = RandomDots(random);
            DotContext union = DotContext.Of(left).Union(DotContext.Of(right));
            foreach (NodeId actor in new[] { A, B })
            {
                for (int counter = 1; counter <= 12; counter++)
                {
                    var dot = new Dot(actor, counter);
                    Assert.Equal(left.Contains(dot) || right.Contains(dot), union.Covers(dot));
                }
            }
        }
    }

    [Fact]
    public void Encoding_RoundTripsAndIsCanonical()
    {
        var random = new Random(3);
        for (int round = 0; round < 200; round++)
        {
            DotContext context = RandomContext(random);
            var buffer = new ArrayBufferWriter<byte>();
            context.Write(buffer);

            DotContext read = DotContext.Read(buffer.WrittenSpan, out int consumed);

            Assert.Equal(context, read);
            Assert.Equal(buffer.WrittenCount, consumed);
            Assert.Equal(context.GetEncodedLength(), consumed);
        }
    }

    [Fact]
    public void Read_CloudDotTheVectorCovers_IsRejectedAsNotCanonical()
    {
        // Vector a:2, cloud {a:2}: a second encoding of the context [a:2].
        byte[] bytes = [1, 1, (byte)'a', 2, 1, 1, (byte)'a', 2];

        FormatException error = Assert.Throws<FormatException>(() => DotContext.Read(bytes, out _));
        Assert.Contains("not canonical", error.Message);
    }

    [Fact]
    public void Read_TruncatedInput_IsAFormatError()
    {
        var buffer = new ArrayBufferWriter<byte>();
        DotContext.Of([new Dot(A, 1), new Dot(B, 5)]).Write(buffer);
        byte[] bytes = buffer.WrittenSpan.ToArray();

        for (int length = 0; length < bytes.Length; length++)
        {
            Assert.Throws<FormatException>(() => DotContext.Read(bytes.AsSpan(0, length), out _));
        }
    }

    private static HashSet<Dot> RandomDots(Random random)
    {
        var dots = new HashSet<Dot>();
        int count = random.Next(0, 10);
        for (int i = 0; i < count; i++)
        {
            dots.Add(new Dot(random.Next(2) == 0 ? A : B, random.Next(1, 13)));
        }

        return dots;
    }

    private static DotContext RandomContext(Random random) => DotContext.Of(RandomDots(random));
}
