"""AffectTrace's engine (no Qt)."""
import os

# Project folders live on NFS/SMB shares where HDF5's own file locks (flock/fcntl) fail or lie; AffectTrace
# coordinates writers itself (core.project.lease), so HDF5 must not lock. Read when h5py is first imported.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
