// Where the API is. Empty: the same origin as this page (the local run). The stack replaces this
// file at deploy time with the API Gateway URL (infra/web.py).
window.STREAMLENS_API = "";
