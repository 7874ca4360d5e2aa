"""Moved to `o2o.client.transport`; this alias keeps old imports working."""

from o2o.client.transport import InProcess, OverHttp, Reply, ServiceError, Transport

__all__ = ["InProcess", "OverHttp", "Reply", "ServiceError", "Transport"]
