using System.Text;
using Dynamite.Core.HyperLogLogs;
using Xunit;

namespace Dynamite.Core.Tests.HyperLogLogs;

/// <summary>The sketch format's invariants: encodings round-trip, unions are register-wise maxima, corrupt sketches are refused.</summary>
public sealed class HyperLogLogTests
{
    [Fact]
    public void Empty_IsRedisServersNewSketch_OneLongZeroRunCoveringEveryRegister()
    {
        byte[] empty = HyperLogLog.Empty();

        // "HYLL", encoding 1 (sparse), three zero bytes, a zero cached count, then XZERO of 16,384 registers.
        Assert.Equal("HYLL"u8.ToArray().Concat(new byte[] { 1 }).Concat(new byte[11]).Concat(new byte[] { 0x7f, 0xff }), empty);
        Assert.True(HyperLogLog.IsSketch(empty));
        Assert.Equal(0, HyperLogLog.Count(new byte[HyperLogLog.RegisterCount]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Encode_ThenMergeInto_GivesBackTheRegisters(bool dense)
    {
        byte[] registers = Registers(Enumerable.Range(0, 500).Select(i => $"e{i}"));

        byte[] sketch = HyperLogLog.Encode(registers, dense, HyperLogLog.Empty(), changed: true);
        byte[] decoded = new byte[HyperLogLog.RegisterCount];

        Assert.True(HyperLogLog.IsSketch(sketch));
        Assert.Equal(dense, HyperLogLog.IsDense(sketch));
        Assert.True(HyperLogLog.TryMergeInto(sketch, decoded));
        Assert.Equal(registers, decoded);
        Assert.False(HyperLogLog.TryReadCachedCount(sketch, out _));
    }

    [Fact]
    public void Encode_ARegisterPastTheSparseRange_IsDense()
    {
        byte[] registers = new byte[HyperLogLog.RegisterCount];
        registers[7] = 33;

        Assert.True(HyperLogLog.IsDense(HyperLogLog.Encode(registers, dense: false, HyperLogLog.Empty(), changed: true)));
    }

    [Fact]
    public void Union_IsTheRegisterWiseMaximum_WhateverTheOrder()
    {
        byte[] a = Sketch(Enumerable.Range(0, 300).Select(i => $"a{i}"));
        byte[] b = Sketch(Enumerable.Range(0, 300).Select(i => $"b{i}"), dense: true);
        byte[] expected = Registers(Enumerable.Range(0, 300).SelectMany(i => new[] { $"a{i}", $"b{i}" }));

        foreach (byte[]? union in new[] { HyperLogLog.Union([a, b]), HyperLogLog.Union([b, a]) })
        {
            byte[] registers = new byte[HyperLogLog.RegisterCount];
            Assert.NotNull(union);
            Assert.True(HyperLogLog.TryMergeInto(union, registers));
            Assert.Equal(expected, registers);
            Assert.True(HyperLogLog.IsDense(union));
        }
    }

    [Fact]
    public void TryMergeInto_ASparseSketchWhoseRunsDoNotCoverEveryRegister_IsRefused()
    {
        byte[] sketch = Sketch(["a", "b", "c"]);
        byte[] registers = new byte[HyperLogLog.RegisterCount];

        Assert.False(HyperLogLog.TryMergeInto([.. sketch, .. "hello"u8.ToArray()], registers));
        Assert.False(HyperLogLog.TryMergeInto(sketch.AsSpan(0, sketch.Length - 1), registers));
        // A long zero run cut after its first byte.
        Assert.False(HyperLogLog.TryMergeInto([.. HyperLogLog.Empty()[..^1]], registers));
        Assert.Null(HyperLogLog.Union([sketch, [.. sketch, 0xff]]));
    }

    [Fact]
    public void IsSketch_RefusesBrokenMagicUnknownEncodingsAndDenseSketchesOfTheWrongSize()
    {
        byte[] sketch = Sketch(["a"]);

        Assert.False(HyperLogLog.IsSketch("0123"u8.ToArray().Concat(sketch[4..]).ToArray()));
        Assert.False(HyperLogLog.IsSketch([.. sketch[..4], (byte)'x', .. sketch[5..]]));
        Assert.False(HyperLogLog.IsSketch([.. sketch[..4], 0, .. sketch[5..]]));
        Assert.False(HyperLogLog.IsSketch("HYLL"u8.ToArray()));
    }

    private static byte[] Registers(IEnumerable<string> elements)
    {
        byte[] registers = new byte[HyperLogLog.RegisterCount];
        foreach (string element in elements)
        {
            (int register, byte value) = HyperLogLog.PatternOf(Encoding.UTF8.GetBytes(element));
            registers[register] = Math.Max(registers[register], value);
        }

        return registers;
    }

    private static byte[] Sketch(IEnumerable<string> elements, bool dense = false) =>
        HyperLogLog.Encode(Registers(elements), dense, HyperLogLog.Empty(), changed: true);
}
