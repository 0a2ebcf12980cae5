using Dynamite.Core.DataTypes;
using Dynamite.Core.KeyValue;
using Dynamite.Storage;

namespace Dynamite.Simulation;

/// <summary>A replica's present elements of one typed key, read from its engine page by page (the checkers' snapshots).</summary>
internal static class PresentElements
{
    private const int PageSize = 1024;

    /// <summary>Each element of <paramref name="key"/> whose state is present, in element order, with its decoded state.</summary>
    public static IEnumerable<(byte[] Name, ElementState State)> Of(IStorageEngine engine, byte[] key)
    {
        byte[]? after = null;
        ElementPage page;
        do
        {
            page = engine.ScanElements(key, after, PageSize);
            foreach (StoredElement element in page.Elements)
            {
                ElementState state = ElementState.Decode(element.Value);
                if (state.IsPresent)
                {
                    yield return (element.Name, state);
                }
            }

            after = page.ResumeAfter;
        }
        while (page.HasMore);
    }
}
