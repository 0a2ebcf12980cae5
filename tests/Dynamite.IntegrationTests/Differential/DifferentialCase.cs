using System.Text;

namespace Dynamite.IntegrationTests.Differential;

/// <summary>One named sequence of steps from cases.txt.</summary>
internal sealed record DifferentialCase(string Name, IReadOnlyList<DifferentialStep> Steps)
{
    public static IReadOnlyList<DifferentialCase> Load(string path)
    {
        var cases = new List<DifferentialCase>();
        string? name = null;
        var steps = new List<DifferentialStep>();
        foreach (string raw in File.ReadAllLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith("=== ", StringComparison.Ordinal))
            {
                if (name is not null)
                {
                    cases.Add(new DifferentialCase(name, steps));
                }

                name = line[4..];
                steps = [];
                continue;
            }

            steps.Add(DifferentialStep.Parse(line));
        }

        if (name is not null)
        {
            cases.Add(new DifferentialCase(name, steps));
        }

        return cases;
    }

    public override string ToString() => Name;
}

internal enum StepKind
{
    Compare,
    CompareSorted,
    CompareType,
    ScanAll,
    Sleep,
    Differs,
}

/// <summary>A command with how its replies are compared.</summary>
internal sealed record DifferentialStep(StepKind Kind, string[] Arguments, string Source, string? Reason = null)
{
    public static DifferentialStep Parse(string line)
    {
        if (!line.StartsWith('!'))
        {
            return new DifferentialStep(StepKind.Compare, Split(line), line);
        }

        int space = line.IndexOf(' ', StringComparison.Ordinal);
        string directive = space < 0 ? line[1..] : line[1..space];
        string rest = space < 0 ? "" : line[(space + 1)..];
        return directive switch
        {
            "sorted" => new DifferentialStep(StepKind.CompareSorted, Split(rest), line),
            "type" => new DifferentialStep(StepKind.CompareType, Split(rest), line),
            "scanall" => new DifferentialStep(StepKind.ScanAll, Split(rest), line),
            "sleep" => new DifferentialStep(StepKind.Sleep, [rest], line),
            "differs" => new DifferentialStep(StepKind.Differs, Split(rest[(rest.IndexOf('|', StringComparison.Ordinal) + 1)..].Trim()), line, rest[..rest.IndexOf('|', StringComparison.Ordinal)].Trim()),
            _ => throw new FormatException("Unknown directive: " + line),
        };
    }

    /// <summary>redis-cli style splitting: spaces separate, "double quotes" take \xHH, \n, \" escapes, 'single' quotes are literal.</summary>
    public static string[] Split(string line)
    {
        var arguments = new List<string>();
        int i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && line[i] == ' ')
            {
                i++;
            }

            if (i >= line.Length)
            {
                break;
            }

            var current = new StringBuilder();
            if (line[i] == '"')
            {
                i++;
                while (line[i] != '"')
                {
                    if (line[i] == '\\' && line[i + 1] == 'x')
                    {
                        current.Append((char)Convert.ToInt32(line.Substring(i + 2, 2), 16));
                        i += 4;
                    }
                    else if (line[i] == '\\')
                    {
                        current.Append(line[i + 1] switch { 'n' => '\n', 'r' => '\r', 't' => '\t', char c => c });
                        i += 2;
                    }
                    else
                    {
                        current.Append(line[i++]);
                    }
                }

                i++;
            }
            else if (line[i] == '\'')
            {
                i++;
                while (line[i] != '\'')
                {
                    current.Append(line[i++]);
                }

                i++;
            }
            else
            {
                while (i < line.Length && line[i] != ' ')
                {
                    current.Append(line[i++]);
                }
            }

            arguments.Add(current.ToString());
        }

        return [.. arguments];
    }
}
