using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Storage;

namespace Dynamite.Simulation;

/// <summary>One replica's stored state of a typed set: its header and its present members with their element states.</summary>
/// <param name="Header">The header record as text; "none" when the key is not stored.</param>
/// <param name="Members">Each present member and its element state as text.</param>
public sealed record TypedSetSnapshot(string Header, SortedDictionary<string, string> Members)
{
    /// <summary>Header and members as one line, for comparing replicas and for violation messages.</summary>
    public string Describe() => Header + " | " + DescribeMembers();

    /// <summary>The members with their states, without the header.</summary>
    public string DescribeMembers() => string.Join(", ", Members.Select(m => $"{m.Key}={m.Value}"));

    public static TypedSetSnapshot Read(IStorageEngine engine, string key, long nowUnixMs)
    {
        ArgumentNullException.ThrowIfNull(engine);
        byte[] keyBytes = Encoding.UTF8.GetBytes(key);
        string header = engine.TryRead(keyBytes, nowUnixMs, out StoredRecord record) && record.IsTypedHeader
            ? TypedKeyRecord.Decode(record.Value).ToString()
            : "none";
        var members = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach ((byte[] name, ElementState state) in PresentElements.Of(engine, keyBytes))
        {
            members.Add(Encoding.UTF8.GetString(name), state.ToString());
        }

        return new TypedSetSnapshot(header, members);
    }
}
