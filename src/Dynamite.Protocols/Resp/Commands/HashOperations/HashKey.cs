using Dynamite.Core.DataTypes;
using Dynamite.Protocols.Resp.Commands.TypedKeys;

namespace Dynamite.Protocols.Resp.Commands.HashOperations;

/// <summary>
/// What is particular to a hash among the typed keys (<see cref="TypedKey"/> has the stored form): a field's value is
/// a last-writer-wins register write (HSET, HINCRBYFLOAT) or counter writes of the node's chain on top of it (HINCRBY),
/// and reads render it as Redis shows it.
/// </summary>
internal static class HashKey
{
    /// <summary>The field's value as Redis shows it (<see cref="ElementValue.Render"/>).</summary>
    public static byte[] Render(ElementState state) => ElementValue.Render(state);

    /// <summary><see cref="Render"/> of a stored element value (an <see cref="ElementState"/> encoding).</summary>
    public static byte[] RenderEncoded(byte[] encoded) => Render(ElementState.Decode(encoded));
}
