"""Quarterly and budget-sensitivity reports: papermill templates, offline HTML, a JSON record.

`run` checks parameters and executes templates; `content` builds what they show from the
pipeline's outcome; `html` exports the executed notebook to one self-contained file.
"""

from .content import (
                      Changes,
                      changes_html,
                      changes_since,
                      executive_summary,
                      input_digest,
                      methods_appendix,
                      report_record,
                      switch_table,
                      title,
)
from .run import (
                      DATA_TAG,
                      ReportError,
                      ReportJob,
                      check_parameters,
                      previous_settings,
                      report_names,
                      run_batch,
                      run_report,
                      template_path,
)

__all__ = ["DATA_TAG", "Changes", "ReportError", "ReportJob", "changes_html", "changes_since", "check_parameters",
           "executive_summary", "input_digest", "methods_appendix", "previous_settings", "report_names",
           "report_record", "run_batch", "run_report", "switch_table", "template_path", "title"]
