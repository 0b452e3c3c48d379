{{- define "heterorag.labels" -}}
app.kubernetes.io/part-of: heterorag
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end }}

{{- define "heterorag.selector" -}}
app.kubernetes.io/name: {{ .name }}-service
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{- define "heterorag.fullname" -}}
{{ printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Every pod of this release (services and the test pod): the peers of the internal gRPC ports. */}}
{{- define "heterorag.releasePods" -}}
app.kubernetes.io/part-of: heterorag
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The service's image: the GPU variant (onnxruntime_gpu) when gpu.enabled. */}}
{{- define "heterorag.image" -}}
{{- $svc := index .root.Values.services .name -}}
{{ .root.Values.image.registry }}/{{ .name }}-service:{{ ternary .root.Values.image.gpuTag .root.Values.image.tag $svc.gpu.enabled }}
{{- end }}

{{/* "hpa", "keda" or "" : what sets the replica count of a service (then the Deployment leaves it out). */}}
{{- define "heterorag.scaler" -}}
{{- $svc := index .root.Values.services .name -}}
{{- if and .root.Values.keda.enabled (eq .name "generation") -}}
keda
{{- else if and .root.Values.keda.enabled (eq .name "retrieval") (eq .root.Values.store.backend "qdrant") -}}
keda
{{- else if $svc.autoscaling.enabled -}}
hpa
{{- end -}}
{{- end }}

{{/* The fewest pods a service runs: its replicas, or the autoscaler's minimum. */}}
{{- define "heterorag.minPods" -}}
{{- $svc := index .root.Values.services .name -}}
{{- if include "heterorag.scaler" . -}}
{{ $svc.autoscaling.minReplicas }}
{{- else -}}
{{ $svc.replicas }}
{{- end -}}
{{- end }}

{{/* Checks across values that values.schema.json cannot express; a failure names the fix. */}}
{{- define "heterorag.validate" -}}
{{- range $name, $svc := .Values.services }}
{{- $ctx := dict "root" $ "name" $name }}
{{- $min := include "heterorag.minPods" $ctx | int }}
{{- if and $svc.pdb.enabled (ge (int $svc.pdb.minAvailable) $min) }}
{{- fail (printf "services.%s.pdb.minAvailable (%d) must be below the pods it runs (%d: replicas, or autoscaling.minReplicas): a budget that allows no disruption blocks every node drain" $name (int $svc.pdb.minAvailable) $min) }}
{{- end }}
{{- if and $svc.autoscaling.enabled (gt (int $svc.autoscaling.minReplicas) (int $svc.autoscaling.maxReplicas)) }}
{{- fail (printf "services.%s.autoscaling.minReplicas must not exceed maxReplicas" $name) }}
{{- end }}
{{- end }}
{{- if and (eq .Values.store.backend "embedded") (or .Values.services.retrieval.autoscaling.enabled (gt (int .Values.services.retrieval.replicas) 1)) }}
{{- fail "store.backend embedded keeps the index on one ReadWriteOnce volume with one writer: services.retrieval runs one replica without autoscaling (use store.backend qdrant to scale it)" }}
{{- end }}
{{- end }}
