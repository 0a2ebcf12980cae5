using System.Globalization;

namespace Dynamite.Fuzzing;

/// <summary>
/// The run's size and seed. CI uses the fixed defaults so a failure replays exactly; the opt-in long run sets
/// DYNAMITE_FUZZ_INPUTS (e.g. 1000000) and optionally DYNAMITE_FUZZ_SEED to explore further.
/// </summary>
public sealed record FuzzOptions(int Seed, long Inputs)
{
    public const string InputsVariable = "DYNAMITE_FUZZ_INPUTS";
    public const string SeedVariable = "DYNAMITE_FUZZ_SEED";

    public static FuzzOptions FromEnvironment(int defaultSeed, long defaultInputs)
    {
        long inputs = defaultInputs;
        int seed = defaultSeed;
        string? inputsText = Environment.GetEnvironmentVariable(InputsVariable);
        if (!string.IsNullOrWhiteSpace(inputsText))
        {
            inputs = long.Parse(inputsText, NumberStyles.Integer, CultureInfo.InvariantCulture);
        }

        string? seedText = Environment.GetEnvironmentVariable(SeedVariable);
        if (!string.IsNullOrWhiteSpace(seedText))
        {
            seed = int.Parse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture);
        }

        return new FuzzOptions(seed, inputs);
    }
}
