from ninja import NinjaAPI

api = NinjaAPI(title="Qiyue API", version="1", urls_namespace="api")
