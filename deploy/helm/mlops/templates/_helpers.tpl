{{/* Names, labels and the pod parts every workload shares. */}}

{{- define "mlops.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mlops.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one workload: (dict "root" $ "component" "api") */}}
{{- define "mlops.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "mlops.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}

{{- define "mlops.gpuImage" -}}
{{- $tag := .Values.image.gpuTag | default (printf "%s%s" (.Values.image.tag | default .Chart.AppVersion) .Values.image.gpuTagSuffix) -}}
{{- printf "%s:%s" .Values.image.gpuRepository $tag -}}
{{- end -}}

{{/* The fleet sets: one per region, plus a region-less one when there are no regions or `unregioned`. */}}
{{- define "mlops.fleetSets" -}}
{{- $sets := list -}}
{{- if or (not .Values.regions) .Values.unregioned -}}
{{- $sets = append $sets (dict "name" "") -}}
{{- end -}}
{{- range .Values.regions -}}
{{- $sets = append $sets . -}}
{{- end -}}
{{- toJson $sets -}}
{{- end -}}

{{- define "mlops.regionNames" -}}
{{- $names := list -}}
{{- range .Values.regions }}{{ $names = append $names .name }}{{ end -}}
{{- join "," $names -}}
{{- end -}}

{{/* Environment every process gets: where Temporal and MongoDB are, production mode, secrets as files. */}}
{{- define "mlops.commonEnv" -}}
- name: MLOPS_ENV
  value: production
- name: MLOPS_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
{{- if .Values.temporal.tls.enabled }}
- name: TEMPORAL_TLS_CERT_FILE
  value: /etc/mlops/temporal-tls/tls.crt
- name: TEMPORAL_TLS_KEY_FILE
  value: /etc/mlops/temporal-tls/tls.key
- name: TEMPORAL_TLS_CA_FILE
  value: /etc/mlops/temporal-tls/ca.crt
{{- with .Values.temporal.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- end }}
- name: MONGODB_URI_FILE
  value: /etc/mlops/mongodb/uri
- name: MONGODB_DB
  value: {{ .Values.mongodb.database | quote }}
- name: MLOPS_ENCRYPTION_KEYS_FILE
  value: /etc/mlops/encryption/keys
- name: MLOPS_DATA_DIR
  value: /data
{{- if .Values.datasets.persistentVolumeClaim }}
- name: MLOPS_DATASETS_DIR
  value: /datasets
{{- end }}
{{- with .Values.datasetRegions }}
- name: MLOPS_DATASET_REGIONS
  value: {{ . | quote }}
{{- end }}
- name: MLOPS_CONTROL_QUEUE
  value: {{ .Values.queues.control | quote }}
- name: MLOPS_GPU_QUEUE
  value: {{ .Values.queues.gpu | quote }}
- name: MLOPS_CPU_QUEUE
  value: {{ .Values.queues.cpu | quote }}
{{- end -}}

{{- define "mlops.volumeMounts" -}}
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
- name: mongodb
  mountPath: /etc/mlops/mongodb
  readOnly: true
- name: encryption
  mountPath: /etc/mlops/encryption
  readOnly: true
{{- if .Values.temporal.tls.enabled }}
- name: temporal-tls
  mountPath: /etc/mlops/temporal-tls
  readOnly: true
{{- end }}
{{- if .Values.mongodb.caSecretName }}
- name: mongodb-ca
  mountPath: /etc/mlops/mongodb-ca
  readOnly: true
{{- end }}
{{- if .Values.datasets.persistentVolumeClaim }}
- name: datasets
  mountPath: /datasets
  readOnly: true
{{- end }}
{{- end -}}

{{- define "mlops.volumes" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
- name: mongodb
  secret:
    secretName: {{ .Values.mongodb.uriSecret.name }}
    items:
      - key: {{ .Values.mongodb.uriSecret.key }}
        path: uri
- name: encryption
  secret:
    secretName: {{ .Values.secrets.encryptionKeys }}
    items:
      - key: keys
        path: keys
{{- if .Values.temporal.tls.enabled }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.tls.secretName }}
{{- end }}
{{- if .Values.mongodb.caSecretName }}
- name: mongodb-ca
  secret:
    secretName: {{ .Values.mongodb.caSecretName }}
{{- end }}
{{- if .Values.datasets.persistentVolumeClaim }}
- name: datasets
  persistentVolumeClaim:
    claimName: {{ .Values.datasets.persistentVolumeClaim }}
    readOnly: true
{{- end }}
{{- end -}}

{{/* Pod-level settings of every workload. */}}
{{- define "mlops.podSpecCommon" -}}
serviceAccountName: {{ include "mlops.fullname" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* NetworkPolicy peers from a networkPeer value: the selected pods, and CIDRs. None: any destination on that port. */}}
{{- define "mlops.peers" -}}
{{- $peers := list -}}
{{- if or .namespaceSelector .podSelector -}}
{{- $peer := dict "podSelector" (.podSelector | default dict) -}}
{{- with .namespaceSelector }}{{ $_ := set $peer "namespaceSelector" . }}{{ end -}}
{{- $peers = append $peers $peer -}}
{{- end -}}
{{- range .ipBlocks }}{{ $peers = append $peers (dict "ipBlock" (dict "cidr" .)) }}{{ end -}}
{{- toYaml $peers -}}
{{- end -}}
