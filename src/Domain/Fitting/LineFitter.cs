using MathNet.Numerics;

namespace ScalingLedger.Domain.Fitting;

/// <summary>An ordinary least-squares line y = intercept + slope * x, with its coefficient of determination.</summary>
public sealed record LineFit(double Intercept, double Slope, double RSquared);

public static class LineFitter
{
    /// <summary>Fits y = a + b ln(x) (x must be positive). Needs at least two distinct x values.</summary>
    public static LineFit? FitLogX(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException("x and y must have the same length.");
        if (x.Any(v => !(v > 0))) throw new ArgumentException("x must be positive for a log-x fit.");
        var lx = x.Select(v => Math.Log(v)).ToArray();
        return FitLine(lx, y.ToArray());
    }

    /// <summary>Fits ln(y) = a + b ln(x): a power law y = e^a x^b. x and y must be positive.</summary>
    public static LineFit? FitLogLog(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException("x and y must have the same length.");
        if (x.Any(v => !(v > 0)) || y.Any(v => !(v > 0))) throw new ArgumentException("x and y must be positive for a log-log fit.");
        return FitLine(x.Select(v => Math.Log(v)).ToArray(), y.Select(v => Math.Log(v)).ToArray());
    }

    private static LineFit? FitLine(double[] x, double[] y)
    {
        if (x.Distinct().Count() < 2 || y.Any(v => !double.IsFinite(v))) return null;
        var (a, b) = Fit.Line(x, y);
        var predicted = x.Select(v => a + b * v).ToArray();
        var r2 = y.Distinct().Count() < 2 ? 1.0 : GoodnessOfFit.CoefficientOfDetermination(predicted, y);
        return new LineFit(a, b, r2);
    }
}
