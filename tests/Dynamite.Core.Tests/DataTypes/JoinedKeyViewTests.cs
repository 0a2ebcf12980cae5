using System.Text;
using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Core.Membership;
using Dynamite.Core.Versioning;
using Xunit;

namespace Dynamite.Core.Tests.DataTypes;

public sealed class JoinedKeyViewTests
{
    private const long Now = 1_700_000_000_000;
    private static readonly NodeId A = new("a");
    private static readonly byte[] Key = "k"u8.ToArray();
    private static readonly KeyHeader Header = KeyHeader.Create(DataType.Hash, new Stamp(Now - 10, new Dot(A, 1)));

    [Fact]
    public void Reads_AJoinedHash_ServeItsHeaderCountAndElementsInNameOrder()
    {
        var view = new JoinedKeyView(Key, Header, null, [Element("b", 3), Element("a", 2), Element("c", 4)], moreAfterLast: false, Now);

        Assert.True(view.TryRead(Key, out StoredRecord record));
        Assert.True(record.IsTypedHeader);
        Assert.Equal(DataType.Hash, TypedKeyRecord.TypeOf(record.Value));
        Assert.Equal(3, TypedKeyRecord.CountOf(record.Value));
        Assert.True(view.TryReadElement(Key, "b"u8, out byte[]? b));
        Assert.Equal("v3", Encoding.ASCII.GetString(ElementState.Decode(b).RegisterWinner()!.Value!));
        Assert.False(view.TryReadElement(Key, "bb"u8, out _));
        Assert.False(view.TryRead("other"u8, out _));

        ElementPage first = view.ScanElements(Key, null, 2);
        Assert.Equal(["a", "b"], first.Elements.Select(e => Encoding.ASCII.GetString(e.Name)));
        Assert.True(first.HasMore);
        ElementPage rest = view.ScanElements(Key, first.ResumeAfter, 2);
        Assert.Equal(["c"], rest.Elements.Select(e => Encoding.ASCII.GetString(e.Name)));
        Assert.False(rest.HasMore);
    }

    [Fact]
    public void ScanElements_OfARangeReadThatStoppedAtItsLimit_SaysMoreFollow()
    {
        var view = new JoinedKeyView(Key, Header, null, [Element("a", 2)], moreAfterLast: true, Now);

        ElementPage page = view.ScanElements(Key, null, 10);

        Assert.True(page.HasMore);
        Assert.Equal("a"u8.ToArray(), page.ResumeAfter);
    }

    [Fact]
    public void TryRead_AnExpiredHeader_ReadsAsAbsent()
    {
        KeyHeader expired = Header.WithExpiry(Now, new Stamp(Now - 5, new Dot(A, 9)));
        var view = new JoinedKeyView(Key, expired, null, [Element("a", 2)], moreAfterLast: false, Now);

        Assert.False(view.TryRead(Key, out _));
        Assert.False(view.TryReadElement(Key, "a"u8, out _));
        Assert.Empty(view.ScanElements(Key, null, 10).Elements);
    }

    [Fact]
    public void TryRead_AStringThatWon_IsAPlainRecord()
    {
        VersionedObject plain = VersionedObject.Empty.Update(VersionVector.Empty, A, "text"u8.ToArray(), Now - 1, 0);
        var view = new JoinedKeyView(Key, null, plain, [], moreAfterLast: false, Now);

        Assert.True(view.TryRead(Key, out StoredRecord record));
        Assert.False(record.IsTypedHeader);
        Assert.Equal("text"u8.ToArray(), record.Value);
    }

    [Fact]
    public void Writes_AreRefused()
    {
        var view = new JoinedKeyView(Key, Header, null, [], moreAfterLast: false, Now);

        Assert.Throws<InvalidOperationException>(() => view.WriteElement(Key, "a"u8.ToArray(), []));
        Assert.Throws<InvalidOperationException>(() => view.Delete(Key));
    }

    [Fact]
    public void JoinedKeysView_ServesEachKeyFromItsOwnJoin_AndAnUnreadKeyAsAbsent()
    {
        byte[] other = "o"u8.ToArray();
        var views = new Dictionary<byte[], JoinedKeyView>(ByteArrayComparer.Instance)
        {
            [Key] = new JoinedKeyView(Key, Header, null, [Element("a", 2)], moreAfterLast: false, Now),
            [other] = new JoinedKeyView(other, Header, null, [Element("b", 3)], moreAfterLast: false, Now),
        };
        var view = new JoinedKeysView(views, Now);

        Assert.True(view.TryReadElement(Key, "a"u8, out _));
        Assert.False(view.TryReadElement(Key, "b"u8, out _));
        Assert.True(view.TryReadElement(other, "b"u8, out _));
        Assert.False(view.TryRead("unread"u8, out _));
        Assert.Empty(view.ScanElements("unread"u8, null, 5).Elements);
        Assert.Throws<InvalidOperationException>(() => view.Delete(Key));
    }

    private static KeyValuePair<byte[], ElementState> Element(string name, long counter) =>
        new(Encoding.ASCII.GetBytes(name), ElementState.Of([new ElementWrite(new Dot(A, counter), Now - 5, Encoding.ASCII.GetBytes("v" + counter))]));
}
