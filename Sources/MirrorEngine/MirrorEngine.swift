/// MirrorEngine: roles, mirror runs, staging and atomic commit on replicas.
public enum MirrorEngineModule {}
