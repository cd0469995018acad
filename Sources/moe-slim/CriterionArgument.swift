import ArgumentParser
import MoESlimSlimming

/// `--criterion` parses to the criteria the statistics declare; help and shell completion list the same values.
extension ExpertSelection.Criterion: ExpressibleByArgument {}
