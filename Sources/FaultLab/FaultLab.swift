/// Fault-injection trials against a real master/replica pair (see `FaultKind`).
public enum FaultLab {}
