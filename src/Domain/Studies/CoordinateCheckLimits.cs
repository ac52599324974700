namespace ScalingLedger.Domain.Studies;

/// <summary>How large a coordinate check may be, and how many a study may hold (each is a document of its own).</summary>
public static class CoordinateCheckLimits
{
    /// <summary>Widths one check compares (a handful shows whether activations grow with width).</summary>
    public const int MaxWidths = 16;

    /// <summary>Steps one check follows (the growth shows in the first few).</summary>
    public const int MaxSteps = 200;

    /// <summary>Checks a study may run: each trains every width for a few steps on the trainers the study's trials need.</summary>
    public const int MaxPerStudy = 20;

    /// <summary>The largest model a check may build (its widest width), as a trial: <see cref="SpecValidation.MaxWeights"/>.</summary>
    public const long MaxWeights = SpecValidation.MaxWeights;
}
