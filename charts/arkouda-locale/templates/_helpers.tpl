{{/*
Helpers of arkouda-locale. Every name starts with the chart's name because the templates of a
chart and its siblings in the `arkouda` umbrella chart share one namespace of `define`s.
*/}}

{{/* helm.sh/chart label value. */}}
{{- define "arkouda-locale.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{/* Base of the object names: <release>-locale (a release name longer than 45 characters is cut to
38 plus a hash of the whole name: the suffix survives, long names never collide, and the
StatefulSet name stays within 52). */}}
{{- define "arkouda-locale.fullname" -}}
{{- $release := .Release.Name -}}
{{- if gt (len $release) 45 -}}
{{- $release = printf "%s-%s" ($release | trunc 38 | trimSuffix "-") (sha256sum .Release.Name | trunc 6) -}}
{{- end -}}
{{- printf "%s-locale" $release -}}
{{- end }}

{{/* Labels that select this release's locale pods; the server's LOCALE_SELECTOR is
app.kubernetes.io/instance=<release>,app.kubernetes.io/component=locale. */}}
{{- define "arkouda-locale.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: locale
{{- end }}

{{/* Labels of every object, except the component. */}}
{{- define "arkouda-locale.commonLabels" -}}
helm.sh/chart: {{ include "arkouda-locale.chart" . }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: arkouda
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "arkouda-locale.labels" -}}
{{ include "arkouda-locale.commonLabels" . }}
app.kubernetes.io/component: locale
{{- end }}

{{/* Namespace of every object: global.namespace, external.namespace (seed), the release's. */}}
{{- define "arkouda-locale.namespace" -}}
{{- $g := .Values.global | default dict -}}
{{- $g.namespace | default .Values.external.namespace | default .Release.Namespace -}}
{{- end }}

{{/* TOTAL number of locales (locale pods + 1); global.numLocales wins. */}}
{{- define "arkouda-locale.numLocales" -}}
{{- $g := .Values.global | default dict -}}
{{- if and (hasKey $g "numLocales") (not (kindIs "invalid" $g.numLocales)) -}}
{{- $g.numLocales | int -}}
{{- else -}}
{{- .Values.server.numLocales | int -}}
{{- end -}}
{{- end }}

{{/* Number of locale pods: numLocales - 1. */}}
{{- define "arkouda-locale.replicas" -}}
{{- sub (include "arkouda-locale.numLocales" . | int) 1 -}}
{{- end }}

{{/* image reference: global.image.*, global.releaseVersion, image.*, releaseVersion, appVersion. */}}
{{- define "arkouda-locale.image" -}}
{{- $g := .Values.global | default dict -}}
{{- $gi := $g.image | default dict -}}
{{- $repo := $gi.repository | default .Values.image.repository -}}
{{- $tag := $gi.tag | default $g.releaseVersion | default .Values.image.tag | default .Values.releaseVersion | default .Chart.AppVersion -}}
{{- printf "%s:%s" $repo (toString $tag) -}}
{{- end }}

{{- define "arkouda-locale.pullPolicy" -}}
{{- $g := .Values.global | default dict -}}
{{- $gi := $g.image | default dict -}}
{{- $gi.pullPolicy | default $g.imagePullPolicy | default .Values.image.pullPolicy | default .Values.imagePullPolicy | default "IfNotPresent" -}}
{{- end }}

{{/* The image pull secrets (YAML list; empty when none). */}}
{{- define "arkouda-locale.imagePullSecrets" -}}
{{- $g := .Values.global | default dict -}}
{{- with ($g.imagePullSecrets | default .Values.imagePullSecrets) -}}
{{- toYaml . -}}
{{- end -}}
{{- end }}

{{/* The ssh key Secret: ssh.existingSecret, else <release>-ssh generated here. */}}
{{- define "arkouda-locale.sshSecretName" -}}
{{- .Values.ssh.existingSecret | default (printf "%s-ssh" (.Release.Name | trunc 59 | trimSuffix "-")) -}}
{{- end }}

{{/* The claim created for type pvc without existingClaim. */}}
{{- define "arkouda-locale.claimName" -}}
{{- printf "%s-data" (.Release.Name | trunc 58 | trimSuffix "-") -}}
{{- end }}

{{- define "arkouda-locale.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "arkouda-locale.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end }}

{{/* external.persistence with global.persistence laid over it key by key (YAML). */}}
{{- define "arkouda-locale.persistence" -}}
{{- $out := deepCopy (.Values.external.persistence | default dict) -}}
{{- $g := .Values.global | default dict -}}
{{- range $k, $v := ($g.persistence | default dict) -}}
{{- if not (kindIs "invalid" $v) -}}{{- $_ := set $out $k $v -}}{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end }}

{{/* podSecurityContext with global.podSecurityContext laid over it key by key (YAML). */}}
{{- define "arkouda-locale.podSecurityContext" -}}
{{- $out := deepCopy (.Values.podSecurityContext | default dict) -}}
{{- $g := .Values.global | default dict -}}
{{- range $k, $v := ($g.podSecurityContext | default dict) -}}
{{- if not (kindIs "invalid" $v) -}}{{- $_ := set $out $k $v -}}{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end }}

{{/* Refuse combinations the schema cannot express, with the fix in the message. */}}
{{- define "arkouda-locale.checks" -}}
{{- if eq (.Values.image.repository | toString) "nginx" -}}
{{- fail "image.repository is nginx: that is the `helm create` scaffolding of the seed's values files, not an arkouda image; delete the image: block from your values (the tag is releaseVersion)" -}}
{{- end -}}
{{- $p := include "arkouda-locale.persistence" . | fromYaml -}}
{{- if and $p.enabled (eq $p.type "hostPath") (not $p.hostPath) -}}
{{- fail "external.persistence.hostPath is required when persistence is enabled with type hostPath" -}}
{{- end -}}
{{- end }}

{{/* The anti-affinity that spreads the release's pods (server and locales) over nodes. */}}
{{- define "arkouda-locale.affinity" -}}
{{- if .Values.affinity -}}
{{- toYaml .Values.affinity -}}
{{- else if eq .Values.podAntiAffinity "hard" -}}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          app.kubernetes.io/instance: {{ .Release.Name }}
          app.kubernetes.io/part-of: arkouda
{{- else if eq .Values.podAntiAffinity "soft" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            app.kubernetes.io/instance: {{ .Release.Name }}
            app.kubernetes.io/part-of: arkouda
{{- end -}}
{{- end }}
