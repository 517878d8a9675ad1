"""Critical points of small networks: exact Hessians, the minimum ratio, and escaping saddle points."""
