namespace Dynamite.Fuzzing;

/// <summary>An input that broke a property: enough to replay it (run seed and index) or paste it into a regression test (hex).</summary>
public sealed record FuzzFinding(string Target, int Seed, long Index, string Problem, byte[] Input)
{
    public string InputHex => Convert.ToHexString(Input);

    public override string ToString() =>
        $"[{Target}] seed {Seed} input #{Index}: {Problem}{Environment.NewLine}  input ({Input.Length} bytes): {InputHex}";
}
