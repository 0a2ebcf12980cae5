using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Storage;

namespace Dynamite.Simulation;

/// <summary>
/// One replica's stored state of a sorted set or a list: its header and its present elements in the engine's order
/// (a list's order), each with its name (a member, or a list position in hex) and its element state.
/// </summary>
/// <param name="Header">The header record as text; "none" when the key is not stored.</param>
/// <param name="Elements">Each present element's name and state as text, in element order.</param>
/// <param name="Values">Each present element's value as a client reads it (a list item; a member's score register).</param>
public sealed record CollectionSnapshot(string Header, IReadOnlyList<(string Name, string State)> Elements, IReadOnlyList<string> Values)
{
    /// <summary>Header and elements as one line, for comparing replicas and for violation messages.</summary>
    public string Describe() => Header + " | " + DescribeElements();

    /// <summary>The elements with their states, without the header.</summary>
    public string DescribeElements() => string.Join(", ", Elements.Select(e => $"{e.Name}={e.State}"));

    public static CollectionSnapshot Read(IStorageEngine engine, string key, bool namesAreText, long nowUnixMs)
    {
        ArgumentNullException.ThrowIfNull(engine);
        byte[] keyBytes = Encoding.UTF8.GetBytes(key);
        string header = engine.TryRead(keyBytes, nowUnixMs, out StoredRecord record) && record.IsTypedHeader
            ? TypedKeyRecord.Decode(record.Value).ToString()
            : "none";
        var elements = new List<(string, string)>();
        var values = new List<string>();
        foreach ((byte[] name, ElementState state) in PresentElements.Of(engine, keyBytes))
        {
            elements.Add((namesAreText ? Encoding.UTF8.GetString(name) : Convert.ToHexString(name), state.ToString()));
            values.Add(Encoding.UTF8.GetString(ElementValue.Render(state)));
        }

        return new CollectionSnapshot(header, elements, values);
    }
}
