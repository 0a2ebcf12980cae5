namespace Dynamite.Core.KeyValue;

/// <summary>
/// One page of a key's elements, in element-name byte order (shorter first when one name is a prefix of another).
/// <see cref="HasMore"/> says whether elements after the page's last one remain; the next page starts after
/// <see cref="ResumeAfter"/>.
/// </summary>
public sealed record ElementPage(IReadOnlyList<StoredElement> Elements, bool HasMore)
{
    public static ElementPage Empty { get; } = new([], false);

    /// <summary>The name to pass as the next scan's <c>afterElement</c>: the page's last name, or null when no more remain.</summary>
    public byte[]? ResumeAfter => HasMore ? Elements[^1].Name : null;
}
